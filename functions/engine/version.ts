/** Engine version written into every model artifact. */
export const ENGINE_VERSION = '0.1.0';
/** Model artifact format version; bump on any change a previous loader could misread. */
export const ARTIFACT_FORMAT_VERSION = 1;
export const ARTIFACT_FORMAT = 'faultline-patchcore';
