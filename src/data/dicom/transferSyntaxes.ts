/** The transfer syntaxes a DICOM file may use, as the decoder sorts them. */

/** How the pixel data of a transfer syntax is decoded. */
export type PixelCodec = 'native' | 'rle' | 'jpeg-baseline' | 'jpeg-lossless' | 'jpeg-ls' | 'jpeg-2000';

export interface TransferSyntax {
  name: string;
  codec: PixelCodec;
  /** How the data set itself is encoded. */
  encoding: 'implicit' | 'explicit' | 'explicit-big' | 'deflated';
}

export const IMPLICIT_LITTLE = '1.2.840.10008.1.2';
export const EXPLICIT_LITTLE = '1.2.840.10008.1.2.1';
export const DEFLATED = '1.2.840.10008.1.2.1.99';
export const EXPLICIT_BIG = '1.2.840.10008.1.2.2';
export const RLE = '1.2.840.10008.1.2.5';

const SUPPORTED: Readonly<Record<string, TransferSyntax>> = {
  [IMPLICIT_LITTLE]: { name: 'implicit VR little endian', codec: 'native', encoding: 'implicit' },
  [EXPLICIT_LITTLE]: { name: 'explicit VR little endian', codec: 'native', encoding: 'explicit' },
  [DEFLATED]: { name: 'deflated explicit VR little endian', codec: 'native', encoding: 'deflated' },
  [EXPLICIT_BIG]: { name: 'explicit VR big endian', codec: 'native', encoding: 'explicit-big' },
  [RLE]: { name: 'RLE lossless', codec: 'rle', encoding: 'explicit' },
  '1.2.840.10008.1.2.4.50': { name: 'JPEG baseline', codec: 'jpeg-baseline', encoding: 'explicit' },
  '1.2.840.10008.1.2.4.51': { name: 'JPEG extended', codec: 'jpeg-baseline', encoding: 'explicit' },
  '1.2.840.10008.1.2.4.57': { name: 'JPEG lossless', codec: 'jpeg-lossless', encoding: 'explicit' },
  '1.2.840.10008.1.2.4.70': {
    name: 'JPEG lossless, first-order prediction',
    codec: 'jpeg-lossless',
    encoding: 'explicit',
  },
  '1.2.840.10008.1.2.4.80': { name: 'JPEG-LS lossless', codec: 'jpeg-ls', encoding: 'explicit' },
  '1.2.840.10008.1.2.4.81': { name: 'JPEG-LS near-lossless', codec: 'jpeg-ls', encoding: 'explicit' },
  '1.2.840.10008.1.2.4.90': { name: 'JPEG 2000 lossless', codec: 'jpeg-2000', encoding: 'explicit' },
  '1.2.840.10008.1.2.4.91': { name: 'JPEG 2000', codec: 'jpeg-2000', encoding: 'explicit' },
};

/** Names of syntaxes that are refused, so the message says what the file is. */
const KNOWN_UNSUPPORTED: Readonly<Record<string, string>> = {
  '1.2.840.10008.1.2.4.100': 'MPEG2',
  '1.2.840.10008.1.2.4.101': 'MPEG2 high level',
  '1.2.840.10008.1.2.4.102': 'MPEG-4',
  '1.2.840.10008.1.2.4.103': 'MPEG-4 BD',
  '1.2.840.10008.1.2.4.104': 'MPEG-4 2D',
  '1.2.840.10008.1.2.4.105': 'MPEG-4 3D',
  '1.2.840.10008.1.2.4.106': 'MPEG-4 stereo',
  '1.2.840.10008.1.2.4.107': 'HEVC',
  '1.2.840.10008.1.2.4.108': 'HEVC 10-bit',
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 multi-component',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 multi-component',
  '1.2.840.10008.1.2.4.94': 'JPIP referenced',
  '1.2.840.10008.1.2.4.95': 'JPIP referenced deflate',
  '1.2.840.10008.1.2.4.201': 'HTJ2K lossless',
  '1.2.840.10008.1.2.4.202': 'HTJ2K lossless RPCL',
  '1.2.840.10008.1.2.4.203': 'HTJ2K',
  '1.2.840.10008.1.2.1.98': 'encapsulated uncompressed',
};

/** The syntax, or a sentence that says it is not supported. */
export function transferSyntaxOf(uid: string): TransferSyntax | string {
  const known = SUPPORTED[uid];
  if (known) return known;
  // The UID is the file's text: only digits and dots are quoted, at most 64 of them.
  const shown = /^[0-9.]{1,64}$/.test(uid) ? uid : 'that is not a UID';
  const name = KNOWN_UNSUPPORTED[uid];
  return `DICOM: transfer syntax ${shown}${name ? ` (${name})` : ''} is not supported`;
}
