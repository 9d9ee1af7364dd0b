#!/usr/bin/env node
// First: it sizes the heap before the rest loads.
import "./HeapTuning.js"
import { CompileCache } from "./CompileCache.js"

CompileCache.enable()
await import("./cli/Main.js")
