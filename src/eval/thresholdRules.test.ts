import { describe, expect, it } from 'vitest';
import { chooseOperatingPoint, describeRule, sensitivityThreshold, youdenThreshold } from './thresholdRules';

// scikit-learn's roc_curve example: thresholds 0.8 (tpr 0.5, fpr 0), 0.4 (0.5, 0.5), 0.35 (1, 0.5), 0.1 (1, 1).
const scores = [0.1, 0.4, 0.35, 0.8];
const labels = [0, 0, 1, 1];

describe('youdenThreshold', () => {
  it('picks the largest sensitivity + specificity - 1, the highest threshold on a tie', () => {
    // J: 0.8 -> 0.5, 0.4 -> 0, 0.35 -> 0.5, 0.1 -> 0.
    expect(youdenThreshold(scores, labels, 1)).toBe(0.8);
  });
  it('finds the one best cut', () => {
    // J at 0.9: 1/3 - 0; 0.5: 1/3 - 1/3; 0.4: 2/3 - 1/3; 0.3: 1 - 1/3 (the best); 0.2: 1 - 2/3; 0.1: 0.
    expect(youdenThreshold([0.1, 0.2, 0.5, 0.3, 0.4, 0.9], [0, 0, 0, 1, 1, 1], 1)).toBe(0.3);
  });
  it('works for positive class 0 on its own scores', () => {
    // P(class 0): 0.9 finds 1 of 2 with no false alarm, 0.6 both with one (J 0.5 each): the higher wins.
    expect(youdenThreshold([0.9, 0.6, 0.65, 0.2], [0, 0, 1, 1], 0)).toBe(0.9);
  });
  it('is NaN without both classes', () => {
    expect(youdenThreshold([0.2, 0.3], [1, 1], 1)).toBeNaN();
  });
});

describe('sensitivityThreshold', () => {
  it('is the highest threshold reaching the target on validation', () => {
    expect(sensitivityThreshold(scores, labels, 1, 0.95)).toBe(0.35);
    expect(sensitivityThreshold(scores, labels, 1, 0.5)).toBe(0.8);
    expect(sensitivityThreshold(scores, labels, 1, 1)).toBe(0.35);
  });
  it('refuses a target outside 0..1', () => {
    expect(() => sensitivityThreshold(scores, labels, 1, 95)).toThrow(RangeError);
  });
});

describe('chooseOperatingPoint', () => {
  it('follows the rule and says how', () => {
    expect(chooseOperatingPoint('fixed', 95, scores, labels, 1)).toEqual({
      rule: 'fixed',
      target: null,
      threshold: 0.5,
      fallback: null,
    });
    const youden = chooseOperatingPoint('youden', 95, scores, labels, 1);
    expect(youden.threshold).toBe(0.8);
    expect(describeRule(youden)).toBe('chosen on validation by maximum Youden J');
    const sens = chooseOperatingPoint('sensitivity', 95, scores, labels, 1);
    expect(sens).toMatchObject({ threshold: 0.35, target: 0.95 });
    expect(describeRule(sens)).toBe('chosen on validation for sensitivity at least 95%');
  });
  it('falls back to 0.5, saying why, when validation cannot choose', () => {
    const point = chooseOperatingPoint('youden', 95, [0.3, 0.7], [1, 1], 1);
    expect(point.threshold).toBe(0.5);
    expect(describeRule(point)).toMatch(/^0\.5, because validation has no images of one side/);
  });
});
