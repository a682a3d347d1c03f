import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { theme } from "./lib/state/theme.svelte";

// WebKitGTK looks up each family of a stack it does not find, for every size and weight
// (~2 ms each, on the first paint's path): app.css gives Linux the same stacks without the
// macOS and Windows names (the fonts that win stay the same).
if (navigator.userAgent.includes("Linux")) document.documentElement.classList.add("linux");

// Light or dark before the first paint.
theme.init();

const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app element");
mount(App, { target });
