// Files a customer may send: Amazon Connect's attachment types and its 20 MB limit, checked before any upload,
// and the download and print helpers of the ended chat.
export const MAX_BYTES = 20 * 1024 * 1024;

// Extension -> the content type the upload declares (the first) and the others browsers may report for it.
const TYPES = {
  ".csv": ["text/csv"], ".doc": ["application/msword"],
  ".docx": ["application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
  ".heic": ["image/heic"], ".jfif": ["image/jpeg", "image/pjpeg"], ".jpeg": ["image/jpeg"], ".jpg": ["image/jpeg"],
  ".mov": ["video/quicktime"], ".mp4": ["video/mp4"], ".pdf": ["application/pdf"], ".png": ["image/png"],
  ".ppt": ["application/vnd.ms-powerpoint"],
  ".pptx": ["application/vnd.openxmlformats-officedocument.presentationml.presentation"],
  ".rtf": ["application/rtf", "text/rtf"], ".txt": ["text/plain"], ".wav": ["audio/wav", "audio/x-wav", "audio/vnd.wave"],
  ".xls": ["application/vnd.ms-excel"], ".xlsx": ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
};
export const ACCEPT = Object.keys(TYPES).join(",");
const PREVIEWABLE = new Set(["image/jpeg", "image/png", "image/pjpeg"]);

const megabytes = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** {file} ready to upload (its content type set from its extension when the browser's differs), or {problem}. */
export function checkFile(file) {
  const dot = file.name.lastIndexOf(".");
  const ext = dot >= 0 ? file.name.slice(dot).toLowerCase() : "";
  const types = TYPES[ext];
  if (!types) {
    return { problem: `“${file.name}” cannot be sent: this chat accepts ${Object.keys(TYPES).join(" ")} files.` };
  }
  if (file.size < 1) return { problem: `“${file.name}” is empty.` };
  if (file.size > MAX_BYTES) {
    return { problem: `“${file.name}” is ${megabytes(file.size)}; files can be at most 20 MB.` };
  }
  const type = types.includes(file.type) ? file.type : types[0];
  return { file: type === file.type ? file : new File([file], file.name, { type, lastModified: file.lastModified }) };
}

export const canPreview = (type) => PREVIEWABLE.has(type);

/** Save a Blob under a file name (an object URL clicked through a download link). */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
