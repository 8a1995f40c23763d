/** The .onnx file itself: opset, input and output, metadata_props, and Python onnx's full check where installed. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelMetadata } from '../core/types';
import { disposeCnn } from '../model/cnn';
import { exportLayersModel } from '../model/layersFormat';
import { buildModel } from '../model/models';
import {
  layersModelToOnnx,
  ONNX_INPUT,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  ONNX_OUTPUT,
  ONNX_PRODUCER,
  metadataProps,
} from './onnx';
import { INPUT_DECODING } from '../core/inputDecoding';
import { decodeModel } from './onnxProto';
import { metadataFor, PYTHON, pythonHasOnnx, tempPath, useOnnxTestSetup } from './onnxExport.testutil';

useOnnxTestSetup();

describe('metadataProps', () => {
  it('names how the training films were decoded where metadata.json does, and only then', () => {
    const metadata = metadataFor('batchnorm', ['NORMAL', 'PNEUMONIA'], 40);
    const decoding = (m: ModelMetadata) => metadataProps(m).find((p) => p.key === 'input_decoding')?.value;
    expect(decoding({ ...metadata, inputDecoding: INPUT_DECODING })).toBe(INPUT_DECODING);
    expect(decoding(metadata)).toBeUndefined();
  });
});

describe('the .onnx file', () => {
  let bytes: Uint8Array;
  const metadata = metadataFor('batchnorm', ['NORMAL', 'PNEUMONIA'], 40);

  beforeAll(async () => {
    const model = buildModel('batchnorm', { imageSize: 40, numClasses: 2, learningRate: 1e-3, seed: 2 });
    const { modelJson, weights } = await exportLayersModel(model);
    disposeCnn(model);
    bytes = layersModelToOnnx(modelJson, weights, metadata);
  });

  it('declares opset 13, the NHWC input with a symbolic batch, the output, and the metadata as metadata_props', () => {
    expect(bytes.constructor).toBe(Uint8Array);
    const decoded = decodeModel(bytes);
    expect(decoded.irVersion).toBe(ONNX_IR_VERSION);
    expect(decoded.opsetImport).toHaveLength(1);
    expect(decoded.opsetImport[0]).toMatchObject({ version: ONNX_OPSET });
    expect(decoded.opsetImport[0].domain ?? '').toBe(''); // The default domain, ai.onnx.
    expect(decoded.producerName).toBe(ONNX_PRODUCER);
    const [input] = decoded.graph.input;
    expect(input.name).toBe(ONNX_INPUT);
    expect(input.type.tensorType.elemType).toBe(1);
    expect(input.type.tensorType.shape.dim).toEqual([
      { dimParam: 'batch' },
      { dimValue: 40 },
      { dimValue: 40 },
      { dimValue: 1 },
    ]);
    const [output] = decoded.graph.output;
    expect(output.name).toBe(ONNX_OUTPUT);
    expect(output.type.tensorType.shape.dim).toEqual([{ dimParam: 'batch' }, { dimValue: 1 }]);
    const ops = decoded.graph.node.map((n) => n.opType);
    expect(ops.filter((op) => op === 'BatchNormalization')).toHaveLength(4);
    expect(ops.at(-1)).toBe('Sigmoid');
    const props = Object.fromEntries(decoded.metadataProps.map(({ key, value }) => [key, value]));
    expect(props).toMatchObject({
      model: 'batchnorm',
      class_names: '["NORMAL","PNEUMONIA"]',
      image_size: '40',
      channels: '1',
      normalisation: metadata.normalisation,
      output: 'sigmoid',
      positive_class: 'PNEUMONIA',
      threshold: '0.4375',
      threshold_class: 'PNEUMONIA',
      threshold_rule: 'youden',
      trained_epochs: '3',
      created_at: metadata.createdAt,
      producer: ONNX_PRODUCER,
    });
    expect(JSON.parse(props.class_names)).toEqual(metadata.classNames);
    expect(props.converted_from).toMatch(/TensorFlow\.js/);
  });

  it('leaves out the metadata fields that are null', async () => {
    const model = buildModel('tutorial', { imageSize: 40, numClasses: 3, learningRate: 1e-3, seed: 2 });
    const { modelJson, weights } = await exportLayersModel(model);
    disposeCnn(model);
    const decoded = decodeModel(layersModelToOnnx(modelJson, weights, metadataFor('tutorial', ['a', 'b', 'c'], 40)));
    const keys = decoded.metadataProps.map((p) => p.key);
    expect(keys).toContain('class_names');
    expect(keys).not.toContain('threshold');
    expect(keys).not.toContain('positive_class');
    expect(decoded.graph.node.at(-1)?.opType).toBe('Softmax');
  });

  it.skipIf(!pythonHasOnnx)('with per-image standardisation, passes full_check and holds its nodes', async () => {
    const model = buildModel('batchnorm', {
      imageSize: 40,
      numClasses: 2,
      learningRate: 1e-3,
      seed: 2,
      intensityNormalisation: 'per-image',
    });
    const { modelJson, weights } = await exportLayersModel(model);
    disposeCnn(model);
    const path = tempPath('standardised.onnx');
    writeFileSync(path, layersModelToOnnx(modelJson, weights, metadata));
    const script = [
      'import sys, onnx',
      'm = onnx.load(sys.argv[1])',
      'onnx.checker.check_model(m, full_check=True)',
      'print(" ".join(n.op_type for n in m.graph.node[:9]))',
    ].join('\n');
    const run = spawnSync(PYTHON, ['-c', script, path], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('Transpose ReduceMean Sub Mul ReduceMean Max Sqrt Div Conv');
  });

  it.skipIf(!pythonHasOnnx)('passes onnx.checker.check_model with full_check (Python onnx)', () => {
    const path = tempPath('model.onnx');
    writeFileSync(path, bytes);
    const script = [
      'import sys, json, onnx',
      'm = onnx.load(sys.argv[1])',
      'onnx.checker.check_model(m, full_check=True)',
      'print(json.dumps({p.key: p.value for p in m.metadata_props}))',
    ].join('\n');
    const run = spawnSync(PYTHON, ['-c', script, path], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ class_names: '["NORMAL","PNEUMONIA"]', image_size: '40' });
  });
});
