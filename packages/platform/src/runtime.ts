/** True in Node (and runtimes that mimic it, such as Bun and Deno's Node mode); false in browsers and web workers. */
export const isNode: boolean = typeof process !== "undefined" && !!process.versions?.node;
