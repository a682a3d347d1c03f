/// <reference types="svelte" />
/// <reference types="vite/client" />

/** The app's version, from package.json (see vite.config.ts). */
declare const __APP_VERSION__: string;
