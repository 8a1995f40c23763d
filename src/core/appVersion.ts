/** The app's version, as package.json says (appVersion.test.ts keeps them equal); written into model cards. */
export const APP_VERSION = '0.1.0';
