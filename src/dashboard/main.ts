// The dashboard's entry point: theme, state, the live-data controller and the page.
import { LiveData } from './state/live-data.js';
import { Store } from './state/store.js';
import { Page } from './views/page.js';
import { applyStoredTheme } from './views/theme.js';
import { Toasts } from './views/toasts.js';

applyStoredTheme();
const store = new Store();
const toasts = new Toasts();
const live = new LiveData(store, (message, kind) => toasts.show(message, kind));
new Page(document.getElementById('app')!, store, live);
document.body.append(toasts.element);
store.touch();
void live.start();
