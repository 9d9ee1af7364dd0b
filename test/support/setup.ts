import { afterEach } from "vitest"
import { killStrays } from "./child.js"
import { destroyOpenRequests } from "./http.js"

// Safety net: no child process (curl, tar pipeline) and no HTTP request outlives the test that started it.
afterEach(async () => {
  destroyOpenRequests()
  await killStrays()
})
