import './app.css';
import { mount } from 'svelte';
import App from './App.svelte';

async function start() {
  if (import.meta.env.MODE === 'e2e') {
    // Browser tests: an in-memory backend behind @tauri-apps/api/mocks.
    const { installMockBackend } = await import('./mock/backend');
    installMockBackend();
  }
  const target = document.getElementById('app');
  if (target) mount(App, { target });
}

start();
