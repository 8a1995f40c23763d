/** The Emscripten builds of the @cornerstonejs codecs (CommonJS, no types of their own). */
interface CodecFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

interface CodecDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): CodecFrameInfo;
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}

interface CodecEncoder {
  getDecodedBuffer(frameInfo: CodecFrameInfo): Uint8Array;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
  delete(): void;
}

type CodecFactory<Names extends string> = (options?: {
  locateFile?: (path: string) => string;
}) => Promise<Record<Names, new () => CodecDecoder & CodecEncoder>>;

declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  const factory: CodecFactory<'JpegLSDecoder'>;
  export default factory;
}
declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  const factory: CodecFactory<'J2KDecoder'>;
  export default factory;
}
declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs' {
  const factory: CodecFactory<'JPEGDecoder'>;
  export default factory;
}
declare module '@cornerstonejs/codec-charls' {
  const factory: CodecFactory<'JpegLSEncoder' | 'JpegLSDecoder'>;
  export default factory;
}
declare module '@cornerstonejs/codec-openjpeg' {
  const factory: CodecFactory<'J2KEncoder' | 'J2KDecoder'>;
  export default factory;
}
declare module '@cornerstonejs/codec-libjpeg-turbo-8bit' {
  const factory: CodecFactory<'JPEGEncoder' | 'JPEGDecoder'>;
  export default factory;
}
declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    decode(buffer: ArrayBuffer, offset: number, length: number, numBytes: number): Uint8Array | Uint16Array;
  }
}
