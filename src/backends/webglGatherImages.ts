/**
 * GatherPackedImages on WebGL (backends/packedImages.ts): one fragment a pixel of the batch finds its image's chunk
 * and word, shifts its byte out and scales it, so only the batch's indices go up each step. WebGL keeps int32
 * tensors in float32 textures (R32F), exact for whole numbers below 2^24: so 3 bytes a word, each word read back
 * exactly as an int. The scaling is one float32 multiply by a float32 uniform, as the CPU path's tf.mul: the very
 * same floats. Only where WebGL 2 renders float32 textures (a GPU limited to 16-bit ones would round the words):
 * elsewhere the layout says it is not usable and batches are made on the CPU.
 */
import * as tf from '@tensorflow/tfjs';
import type { GPGPUProgram, MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import { overrideKernels } from './kernelOverrides';
import {
  GATHER_PACKED_IMAGES,
  GPU_BYTES_A_WORD,
  setPackedLayout,
  type GatherPackedImagesAttrs,
  type PackedLayout,
  type UploadWatch,
} from './packedImages';
import { BACKEND, type WebglKernelArgs } from './webglReduce';

/** A chunk at most this large: one texture of 128 MiB (WebGPU's default binding), within WebGL's texture size. */
const WEBGL_CHUNK_BYTES = 128 * 2 ** 20;

/** [n, size, size, 1]: image picks[b]'s pixels, unpacked from its chunk's words and scaled by the `scale` uniform. */
class GatherPackedImagesProgram implements GPGPUProgram {
  readonly variableNames: string[];
  readonly outputShape: number[];
  readonly userCode: string;
  readonly customUniforms = [{ name: 'scale', type: 'float' as const }];

  constructor(batch: number, { size, imagesPerChunk, chunks, bytesPerWord }: GatherPackedImagesAttrs) {
    const names = Array.from({ length: chunks }, (_, i) => `chunk${i}`);
    this.variableNames = ['picks', ...names];
    this.outputShape = [batch, size, size, 1];
    // A word is a whole float below 2^24: int() of it is exact. GLSL ES 3 has no arrays of samplers: a branch a chunk.
    const reads = names.map(
      (name, i) => `if (chunk == ${i}) return int(get${name[0].toUpperCase()}${name.slice(1)}(word));`,
    );
    this.userCode = `
      int readWord(int chunk, int word) {
        ${reads.join('\n        ')}
        return 0;
      }
      void main() {
        ivec4 coords = getOutputCoords();
        int source = int(getPicks(coords.x));
        int chunk = source / ${imagesPerChunk};
        int offset = (source - chunk * ${imagesPerChunk}) * ${size * size} + coords.y * ${size} + coords.z;
        int word = offset / ${bytesPerWord};
        int shift = (offset - word * ${bytesPerWord}) * 8;
        int pixel = (readWord(chunk, word) >> shift) & 255;
        setOutput(float(pixel) * scale);
      }
    `;
  }
}

/** GatherPackedImages: inputs picks (int32 indices) and chunk0..chunkN-1 (packed words); see packedImages.ts. */
export function webglGatherPackedImages(args: WebglKernelArgs): tf.TensorInfo {
  const backend = args.backend as MathBackendWebGL;
  const attrs = args.attrs as unknown as GatherPackedImagesAttrs;
  if (attrs.bytesPerWord !== WEBGL_LAYOUT.bytesPerWord)
    throw new Error(`WebGL packs ${WEBGL_LAYOUT.bytesPerWord} bytes a word, not ${attrs.bytesPerWord}.`);
  const inputs = args.inputs as Record<string, tf.TensorInfo>;
  const picks = inputs.picks;
  const chunks = Array.from({ length: attrs.chunks }, (_, i) => inputs[`chunk${i}`]);
  const program = new GatherPackedImagesProgram(picks.shape[0], attrs);
  return backend.runWebGLProgram(program, [picks, ...chunks], 'float32', [[attrs.scale]]);
}

type Gl = WebGL2RenderingContext;

/** The backend's WebGL context (tfjs' MathBackendWebGL.gpgpu.gl). */
function glOf(backend: unknown): Gl | null {
  return (backend as { gpgpu?: { gl?: Gl } }).gpgpu?.gl ?? null;
}

/** WebGL throws nothing for a texture it cannot allocate: gl.getError says so after the upload. */
function watchUpload(backend: unknown): UploadWatch {
  const gl = glOf(backend);
  // Errors of earlier work are not this upload's: clear them (getError returns one flag a call).
  for (let i = 0; gl && i < 8 && gl.getError() !== gl.NO_ERROR; i++);
  return {
    done: async () => {
      if (!gl) return null;
      if (gl.isContextLost()) return 'the WebGL context was lost';
      const error = gl.getError();
      if (error === gl.NO_ERROR) return null;
      return error === gl.OUT_OF_MEMORY ? 'WebGL is out of memory' : `WebGL error ${error}`;
    },
  };
}

export const WEBGL_LAYOUT: PackedLayout = {
  bytesPerWord: 3,
  // tfjs lays a long 1-D tensor out as a near-square texture of at most WEBGL_MAX_TEXTURE_SIZE a side.
  chunkLimitBytes: () => {
    const side = tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
    return Math.min(WEBGL_CHUNK_BYTES, side * side * GPU_BYTES_A_WORD);
  },
  watchUpload,
  usable: () => tf.env().getNumber('WEBGL_VERSION') === 2 && tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED'),
};

/** Puts GatherPackedImages in for WebGL (idempotent); skipped where this bundle has no WebGL backend. */
export function registerWebglImageKernels(): void {
  if (tf.getKernel(tf.Conv2D, BACKEND) === undefined) return;
  overrideKernels(BACKEND, [
    { kernelName: GATHER_PACKED_IMAGES, kernelFunc: webglGatherPackedImages as unknown as tf.KernelFunc },
  ]);
  setPackedLayout(BACKEND, WEBGL_LAYOUT);
}
