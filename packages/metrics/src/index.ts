// Public API of @perfrdiff/metrics (filled in by its issue).
export const PACKAGE_NAME = "@perfrdiff/metrics";
