/**
 * A patient key that groups a patient's images without saying who they are: the first 16 hex digits of SHA-256 of
 * the id (with a fixed prefix, so the hash is not a plain SHA-256 of an id that could be looked up elsewhere).
 */
export async function hashPatientId(patientId: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    'SHA-256',
    new TextEncoder().encode(`xray-trainer patient\u0000${patientId}`),
  );
  const hex = Array.from(new Uint8Array(digest).subarray(0, 8), (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `patient-${hex}`;
}
