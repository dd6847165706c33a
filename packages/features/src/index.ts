// Public API of @perfrdiff/features (filled in by its issue).
export const PACKAGE_NAME = "@perfrdiff/features";
