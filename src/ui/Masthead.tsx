interface Props {
  /** The page's state in one word (pageStatus.ts; docs/ui-contract.md `data-testid=status`). */
  status: string;
  /** What came back from the last visit, if anything. */
  restoredNote: string | null;
}

/** The page's title, its promise (nothing leaves the tab) and its live status line. */
export function Masthead({ status, restoredNote }: Props) {
  return (
    <header className="masthead">
      <h1>X-ray trainer</h1>
      <p>
        Train an image classifier on your own labelled images, in this browser tab. Nothing is uploaded: the images, the
        training and the model stay on your machine.
      </p>
      {/* A live region: a screen reader hears each change of state (loading, ready, training, done…). */}
      <p className="status" aria-live="polite" aria-atomic="true">
        Status: <span data-testid="status">{status}</span>
      </p>
      {restoredNote && (
        <p role="status" data-testid="restored-note">
          {restoredNote}
        </p>
      )}
    </header>
  );
}
