import type { KeptScores, OodJudgement } from '../../core/types';
import { countUnlike } from '../../eval/outOfDistribution';
import { NO_OOD_TEXT, oodMethodText, unlikeReasonsSentence, unlikeSentence } from './oodText';

/** Above Predict's table: how many of the predicted images are unlike the training data, and how that is judged. */
export function UnlikeSentence({ judgement }: { judgement: OodJudgement | null }) {
  return (
    <p data-testid="predict-ood-summary">
      {judgement ? (
        <>
          <strong>{unlikeSentence(judgement)}</strong> {withSpace(unlikeReasonsSentence(judgement))}
          {oodMethodText(judgement)}
        </>
      ) : (
        NO_OOD_TEXT
      )}
    </p>
  );
}

/**
 * In the Results: for each evaluated split (validation, test), how many of its images are unlike the training data
 * (`data-testid=ood-summary`, one a split, with `data-split`, `data-flagged` and `data-images`).
 */
export function EvaluatedOodSummary({ scores }: { scores: KeptScores | null }) {
  const splits = scores
    ? ([
        ['validation', scores.validation],
        ['test', scores.test],
      ] as const)
    : [];
  // A run from the browser's storage is outside input too: only well-formed judgements are shown.
  const judged = splits.filter(([, s]) => isJudgement(s?.ood));
  if (!scores) return null;
  if (judged.length === 0)
    return (
      <p data-testid="ood-summary" data-split="none">
        {NO_OOD_TEXT}
      </p>
    );
  return (
    <section aria-label="Unlike the training data">
      {judged.map(([name, split]) => {
        const ood = split!.ood!;
        return (
          <p
            key={name}
            data-testid="ood-summary"
            data-split={name}
            data-flagged={countUnlike(ood)}
            data-images={ood.distances.length}
          >
            {name === 'validation' ? 'Validation' : 'Test'}: {unlikeSentence(ood)}
            {name === 'validation' ? ' The cut is set on these images, so about 5% is expected here.' : ''}
            {withSpaceBefore(unlikeReasonsSentence(ood))}
          </p>
        );
      })}
      <p>
        <small>{oodMethodText(judged[0][1]!.ood!)}</small>
      </p>
    </section>
  );
}

/** A sentence followed by a space, or nothing. */
function withSpace(sentence: string): string {
  return sentence ? `${sentence} ` : '';
}

/** A sentence after a space, or nothing. */
function withSpaceBefore(sentence: string): string {
  return sentence ? ` ${sentence}` : '';
}

function isJudgement(value: unknown): value is OodJudgement {
  const j = value as Partial<OodJudgement> | null | undefined;
  return !!j && j.distances instanceof Float32Array && typeof j.threshold === 'number' && Number.isFinite(j.threshold);
}
