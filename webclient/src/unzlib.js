// @ts-check
// fflate's zlib inflate alone, for blosc's zlib streams: imported by name so that the bundle's chunk
// carries only it (a dynamic import of 'fflate' itself would keep the whole package).
export { unzlibSync } from 'fflate';
