export { default } from "../../config/vitest";
