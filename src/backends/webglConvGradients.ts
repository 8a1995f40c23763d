/**
 * Conv2DBackpropFilter for the WebGL backend as a split reduction (webglReduce.ts): the filter gradient
 * dw[r, s, ci, co] = Σ x[n, y·sh + r − top, x·sw + s − left, ci] · dy[n, y, x, co] over n, y and x. tfjs' own
 * program gives each weight one fragment summing all N·outH·outW products (at 150 px, batch 32: 128 fragments of
 * 710,432 products in the first layer); here the first pass gives each weight one fragment per chunk of rows
 * (n, y) of dy, about TERMS_A_FRAGMENT products each, and folding passes add the chunks up.
 * NHWC, any stride and padding, dilation 1 (what tfjs' gradient asks of this kernel); NCHW goes to the shipped kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { GPGPUProgram, MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import { nhwcConvInfo, type FilterGradAttrs } from './convAttrs';
import { callOriginal } from './kernelOverrides';
import { BACKEND, foldRows, nhwcFloat, reshaped, rowsAChunk, type WebglKernelArgs } from './webglReduce';

/** Partial filter gradients: [chunks, kh·kw·ci·co], chunk k summing rows [k·rows, (k+1)·rows) of the n·outH rows of dy. */
class FilterGradPartialsProgram implements GPGPUProgram {
  readonly variableNames = ['x', 'dy'];
  readonly outputShape: number[];
  readonly userCode: string;

  constructor(info: tf.backend_util.Conv2DInfo, rows: number) {
    const { batchSize, outHeight, outWidth, inHeight, inWidth, strideHeight, strideWidth, padInfo } = info;
    const { filterWidth, inChannels, outChannels, filterHeight } = info;
    const totalRows = batchSize * outHeight;
    this.outputShape = [Math.ceil(totalRows / rows), filterHeight * filterWidth * inChannels * outChannels];
    this.userCode = `
      void main() {
        ivec2 coords = getOutputCoords();
        int weight = coords.y;
        int d2 = imod(weight, ${outChannels});
        int rest = weight / ${outChannels};
        int d1 = imod(rest, ${inChannels});
        rest = rest / ${inChannels};
        int wC = imod(rest, ${filterWidth});
        int wR = rest / ${filterWidth};
        int first = coords.x * ${rows};
        float sum = 0.0;
        for (int i = 0; i < ${rows}; i++) {
          int row = first + i;
          if (row >= ${totalRows}) break;
          int b = row / ${outHeight};
          int yR = row - b * ${outHeight};
          int xR = wR + yR * ${strideHeight} - ${padInfo.top};
          if (xR < 0 || xR >= ${inHeight}) continue;
          for (int yC = 0; yC < ${outWidth}; yC++) {
            int xC = wC + yC * ${strideWidth} - ${padInfo.left};
            if (xC < 0 || xC >= ${inWidth}) continue;
            sum += getX(b, xR, xC, d1) * getDy(b, yR, yC, d2);
          }
        }
        setOutput(sum);
      }
    `;
  }
}

/** Conv2DBackpropFilter: inputs x, dy; attributes strides, pad, dataFormat, dimRoundingMode, filterShape. */
export function webglConv2DBackpropFilter(args: WebglKernelArgs): tf.TensorInfo {
  const backend = args.backend as MathBackendWebGL;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as FilterGradAttrs;
  if (attrs.dataFormat === 'NCHW' || nhwcFloat(x) === null || nhwcFloat(dy) === null) {
    return callOriginal(BACKEND, tf.Conv2DBackpropFilter, args);
  }
  const info = nhwcConvInfo(x.shape, attrs.filterShape, attrs);
  const rows = rowsAChunk(info.batchSize * info.outHeight, info.outWidth);
  const partials = backend.runWebGLProgram(new FilterGradPartialsProgram(info, rows), [x, dy], 'float32');
  return reshaped(foldRows(backend, partials), [...attrs.filterShape]);
}
