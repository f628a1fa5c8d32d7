import { render } from 'preact';
import { loadConfig } from './api/config.ts';
import { errorMessage } from './api/errors.ts';
import { App } from './app.tsx';
import { takeKeyFromFragment } from './auth/session.ts';
import './styles.css';

takeKeyFromFragment();
const root = document.getElementById('app')!;
loadConfig().then(
  (config) => render(<App config={config} />, root),
  (error) => {
    root.innerHTML = '';
    const p = document.createElement('p');
    p.setAttribute('role', 'alert');
    p.className = 'notice notice-error';
    p.textContent = `The console cannot start: ${errorMessage(error)}`;
    root.append(p);
  },
);
