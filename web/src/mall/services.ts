// The one MallApi of the app. The token is read from storage on every call; a 401 answer runs
// the handler main.ts installs (sign out, go to /login and come back afterwards).
import { MallApi } from './api';
import { currentToken } from './stores/session';

let unauthenticatedHandler: () => void = () => {};

export function setUnauthenticatedHandler(handler: () => void): void {
  unauthenticatedHandler = handler;
}

export const api = new MallApi({
  bearerToken: () => currentToken(),
  onUnauthenticated: () => unauthenticatedHandler(),
});
