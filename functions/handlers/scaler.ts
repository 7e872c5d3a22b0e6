// WIP (stack branch): replaced by the Flink REST → CloudWatch EMF scaler in the next commits.
export const handler = async (): Promise<void> => {
  throw new Error('scaler not implemented yet');
};
