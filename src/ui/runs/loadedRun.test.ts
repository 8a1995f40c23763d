import { describe, expect, it } from 'vitest';
import { intensityNormalisationOfJson } from './loadedRun';

const modelJson = (classNames: string[], nested = false) => {
  const config = { name: 'm', layers: classNames.map((class_name) => ({ class_name, config: {} })) };
  const topology = { class_name: 'Sequential', config };
  return JSON.stringify({ modelTopology: nested ? { model_config: topology } : topology });
};

describe('intensityNormalisationOfJson', () => {
  it("reads a loaded model's intensity normalisation from its first layer", () => {
    expect(intensityNormalisationOfJson(modelJson(['PerImageStandardization', 'Conv2D', 'Dense']))).toBe('per-image');
    expect(intensityNormalisationOfJson(modelJson(['InputLayer', 'PerImageStandardization'], true))).toBe('per-image');
    expect(intensityNormalisationOfJson(modelJson(['Conv2D', 'PerImageStandardization']))).toBe('none');
  });

  it('says none for what it cannot read', () => {
    expect(intensityNormalisationOfJson('not json')).toBe('none');
    expect(intensityNormalisationOfJson('{"modelTopology":{"config":{"layers":"x"}}}')).toBe('none');
    expect(intensityNormalisationOfJson('{"modelTopology":{"config":{"layers":[null]}}}')).toBe('none');
    expect(intensityNormalisationOfJson('null')).toBe('none');
  });
});
