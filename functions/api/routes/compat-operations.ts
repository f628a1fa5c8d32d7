/** The older contracts' operations that run the model or train it in the request: the CDK app gives them the detect function. */
export const COMPAT_MODEL_OPERATIONS = [
  'flaskLoadReference',
  'flaskInfer',
  'flaskInferJson',
  'lookoutDetectAnomalies',
  'legacyTestModel',
];
