// `node --import ./webclient/test/virtual.mjs --test ...`: lets tests import modules that use virtual:shaders.
import { register } from 'node:module';

register('./virtual-hooks.mjs', import.meta.url);
