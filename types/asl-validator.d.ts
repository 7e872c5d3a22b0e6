declare module 'asl-validator' {
  interface AslValidatorResult {
    isValid: boolean;
    errors: { 'Error code': string; Message: string }[];
    errorsText(separator?: string): string;
  }
  function validator(definition: unknown, opts?: { checkPaths?: boolean; checkArn?: boolean }): AslValidatorResult;
  export = validator;
}
