// The renderer's entry: connects the API client over the transport this page has (Electron IPC or the
// browser-mode WebSocket), applies the saved theme and mounts the app. No Node, no Electron imports.
import { mount } from 'svelte';
import App from './App.svelte';
import { connectApi } from './api/connect.js';
import { setApi } from './lib/api.js';
import { appState } from './lib/app-state.svelte.js';
import { applyTheme, savedTheme } from './lib/theme.js';
import './styles.css';

applyTheme(savedTheme());
setApi(
  connectApi((connected) => {
    appState.connected = connected;
  }),
);
mount(App, { target: document.getElementById('app') as HTMLElement });
