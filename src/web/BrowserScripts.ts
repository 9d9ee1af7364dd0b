import dashboard from "web-bundle:dashboard"
import home from "web-bundle:home"

/**
 * The pages' scripts (src/web/browser), bundled and checked for inlining by the build. The only module that
 * names them: everything that renders a page takes its script as an argument, so tests and tools can run
 * it without the build's plugin.
 */
export const browserScripts = { dashboard, home } as const
