"""The web client: its production build (dist/, made by `npm run build` in web/) and the
routes that serve it from the same origin as the API."""
