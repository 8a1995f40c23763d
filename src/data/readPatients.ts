/**
 * The patient ids known before the splits are planned, so that no patient is split: the PatientID of DICOM files
 * (read by the decode pool) and a labels table's patient column, both hashed so no id is kept in clear.
 */
import type { DecodePool } from './decodePool';
import { fileNameOf } from './patients';
import { hashPatientId } from './dicom/patientHash';
import { IMAGE_EXTENSIONS, extensionOf, mayBeDicomName } from './paths';
import type { ImageEntry } from './types';

/** Each value hashed (hashPatientId), each distinct one once. */
export async function hashAll(patients: Map<string, string>): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  for (const id of new Set(patients.values())) hashes.set(id, await hashPatientId(id));
  return new Map([...patients].map(([path, id]) => [path, hashes.get(id)!]));
}

/** Where the pool finds an entry's bytes. */
export async function sourceOf(entry: ImageEntry) {
  return entry.zip ? { zip: entry.zip } : { blob: await entry.read(), name: entry.path };
}

/** The hashed PatientID of every entry that may be DICOM (by name) and names one. */
export async function readDicomPatients(
  entries: readonly ImageEntry[],
  pool: DecodePool,
  signal: AbortSignal | undefined,
): Promise<Map<string, string>> {
  const candidates = entries.filter((entry) => {
    const name = fileNameOf(entry.path);
    return mayBeDicomName(name) && !IMAGE_EXTENSIONS.includes(extensionOf(name));
  });
  const patients = new Map<string, string>();
  await Promise.all(
    candidates.map(async (entry) => {
      signal?.throwIfAborted();
      const patient = await pool.readPatient(await sourceOf(entry));
      if (patient !== null) patients.set(entry.path, patient);
    }),
  );
  return patients;
}
