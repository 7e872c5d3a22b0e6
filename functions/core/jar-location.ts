/** Where a job's jar lives (`submit.jarPath`): pure parsing, shared by the workflow (upload) and the stack (IAM). */

const S3_URI = /^s3:\/\/([^/]+)\/(.+)$/;

/** `s3://bucket/key` → its parts, or undefined for anything else (a local path, file://). */
export function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const m = S3_URI.exec(uri);
  return m ? { bucket: m[1], key: m[2] } : undefined;
}

/** The file name a jar location uploads as (POST /jars/upload keeps it: the jar id is `<uuid>_<name>`). */
export function jarFileName(location: string): string {
  return location.replace(/[?#].*$/, '').split('/').pop() ?? location;
}
