#!/usr/bin/env node
// First: it sizes the heap before the rest loads.
import "./HeapTuning.js"
import { enableCompileCache } from "./CompileCache.js"

enableCompileCache()
await import("./cli/Main.js")
