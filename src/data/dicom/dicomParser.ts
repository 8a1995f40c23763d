/**
 * dicom-parser, the same in the bundle and in Node: its UMD build comes through as a default export in Node's
 * ES module loader and as named exports in Vite's bundle.
 */
import * as namespace from 'dicom-parser';

type DicomParser = typeof namespace & {
  DataSet: new (
    parser: namespace.ByteArrayParser,
    byteArray: Uint8Array,
    elements: Record<string, namespace.Element>,
  ) => namespace.DataSet;
};

export const dicomParser = ((namespace as unknown as { default?: DicomParser }).default ?? namespace) as DicomParser;
export type { DataSet, Element } from 'dicom-parser';
