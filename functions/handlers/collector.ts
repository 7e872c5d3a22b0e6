// WIP (stack branch): replaced by the Flink REST → CloudWatch EMF collector in the next commits.
export const handler = async (): Promise<void> => {
  throw new Error('collector not implemented yet');
};
