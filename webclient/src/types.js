// @ts-check
// JSDoc types of the viewer's own data, checked by `tsc --noEmit` (webclient/tsconfig.json) in every
// file that starts with `// @ts-check`. This module holds no code.

/**
 * One pyramid level of an image, as the store layer (zarr.js) describes it. Sizes in pixels of this
 * level; `downsample` is level-0 pixels per pixel of this level.
 * @typedef {object} Level
 * @property {{t: number, c: number, z: number, y: number, x: number}} size
 * @property {{t: number, c: number, z: number, y: number, x: number}} chunk
 * @property {number} tilesX
 * @property {number} tilesY
 * @property {number} downsample
 * @property {number} planes planes (t, c, z) held by one chunk
 * @property {DType} dtype
 * @property {any} compressor the codec description handed to the decode workers
 * @property {number} fill fill value of absent chunks
 */

/**
 * @typedef {object} DType
 * @property {string} name 'uint8' or 'uint16'
 * @property {number} size bytes per pixel
 */

/**
 * A channel's rendering settings: what setChannel() takes and getState() returns.
 * @typedef {object} ChannelSettings
 * @property {string} color '#rrggbb'
 * @property {[number, number]} window [lo, hi] in raw data units
 * @property {boolean} visible
 * @property {number} gamma
 * @property {boolean} invert
 * @property {string} colormap a name of COLORMAPS
 */

/**
 * A channel as the store describes it: its default settings plus label and statistics.
 * @typedef {ChannelSettings & {label: string, histogram: ?{counts: number[], range: [number, number]}, min: number, max: number}} ChannelMeta
 */

/**
 * An opened image (what openImage() resolves to; the store layer owns it, the viewer only reads it).
 * @typedef {object} ImageSource
 * @property {string} url
 * @property {?string} token
 * @property {string} name
 * @property {Level[]} levels finest first
 * @property {DType} dtype
 * @property {number} width level-0 pixels
 * @property {number} height
 * @property {number} sizeZ
 * @property {number} sizeT
 * @property {number} sizeC
 * @property {number} defaultZ
 * @property {number} defaultT
 * @property {number} pixelSize
 * @property {?string} unit
 * @property {ChannelMeta[]} channels
 * @property {any} attrs the raw image metadata
 */

/**
 * What the canvas shows: `center` is the level-0 pixel at the canvas centre, `zoom` CSS pixels per
 * level-0 pixel.
 * @typedef {object} View
 * @property {[number, number]} center
 * @property {number} zoom
 */

/**
 * The viewer's state (getState() returns a copy; the viewer keeps the original private).
 * @typedef {object} ViewerState
 * @property {View} view
 * @property {number} z
 * @property {number} t
 * @property {string} blend a name of BLENDS
 * @property {ChannelSettings[]} channels
 * @property {?ShaderState} [shader] the compositing shader, null for the built-in
 * @property {ShaderDefinitions} [definitions] sources of the user colormaps and blends the state uses
 */

/**
 * A compositing shader in the state: its GLSL source and the values of its #uicontrol controls.
 * @typedef {object} ShaderState
 * @property {string} source
 * @property {Record<string, number | boolean | string>} controls
 */

/**
 * Colormaps and blends defined at run time: name -> GLSL source.
 * @typedef {object} ShaderDefinitions
 * @property {Record<string, string>} [colormaps]
 * @property {Record<string, string>} [blends]
 */

/**
 * One tile of one plane: pyramid level, time point, slice and tile row/column.
 * @typedef {object} TileRef
 * @property {number} level
 * @property {number} t
 * @property {number} z
 * @property {number} ty
 * @property {number} tx
 */

/**
 * One chunk request: a tile of a plane, one channel.
 * @typedef {TileRef & {c: number}} ChunkRequest
 */

export {};
