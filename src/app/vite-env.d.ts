/// <reference types="vite/client" />

/** The name of this build (vite.config.ts). */
declare const __EDNET_BUILD__: string;
