// Public API of @perfrdiff/diffusion (filled in by its issue).
export const PACKAGE_NAME = "@perfrdiff/diffusion";
