// Types Vite gives the renderer: imports of CSS and assets.
/// <reference types="vite/client" />
