// The ESM entry point: the same implementation as the CommonJS one (one module instance either way).
import sdk from './index.cjs';

export const { TollgateClient, TollgateError, InvalidEventError, MAX_BATCH_EVENTS, MAX_PROPERTIES_BYTES, VERSION } = sdk;
export default sdk;
