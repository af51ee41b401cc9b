'use strict';
// What updock uses of undici (Pool, Client, errors), without the rest of its index: fetch, WebSocket,
// cookies (whose load touches globalThis.Headers and so loads Node's own copy of undici), caches,
// mocks. Bundled in place of `undici` by scripts/build.ts; the tests use the real index. undici is
// pinned to a minor version in package.json because these paths are its files, not its exports.
const Dispatcher = require('undici/lib/dispatcher/dispatcher');
const api = require('undici/lib/api');

Object.assign(Dispatcher.prototype, api);
module.exports.Dispatcher = Dispatcher;
module.exports.Client = require('undici/lib/dispatcher/client');
module.exports.Pool = require('undici/lib/dispatcher/pool');
module.exports.errors = require('undici/lib/core/errors');
