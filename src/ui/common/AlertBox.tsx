interface Props {
  /** Messages a person can act on; nothing is shown without one. */
  messages: string[];
  onDismiss: () => void;
}

/** The page's errors and notices, in one `role=alert` box with a Dismiss button. */
export function AlertBox({ messages, onDismiss }: Props) {
  if (messages.length === 0) return null;
  return (
    <div role="alert" className="alert">
      {messages.map((a) => (
        <p key={a}>{a}</p>
      ))}
      <button type="button" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}
