/** Imported first by main.tsx: the policy must exist before any module (glamor, in tfjs-vis) touches a sink. */
import { installTrustedTypesPolicy } from './trustedTypes';

installTrustedTypesPolicy();
