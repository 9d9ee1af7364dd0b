/** A browser script as text, bundled at build time by scripts/build-web.mjs (`web-bundle:dashboard`, …). */
declare module "web-bundle:*" {
  const script: string
  export default script
}
