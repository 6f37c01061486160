// Wire types of media (heliograph/domain/media.py, stickers.py).
import type { Message } from '../api/types';

export interface FileInfo { id: string; size: number; name: string; mime_type: string; sha256?: string }
export interface Upload { upload_id: string; size: number; part_size: number; parts: number; received: number[]; expires_at?: number; file?: FileInfo | null }
export interface PhotoSize { kind: string; width: number; height: number; size?: number; file_id: string }
export interface Photo { width: number; height: number; sizes: PhotoSize[]; inline_preview?: string }
export interface Document { file_id: string; name: string; mime_type: string; size: number }
export interface Voice { file_id: string; mime_type: string; size: number; duration: number; waveform?: number[] | null }
export interface Video { file_id: string; name: string; mime_type: string; size: number; duration: number; width: number; height: number; thumbnail?: PhotoSize | null }
export interface Sticker { file_id: string; set_id: number; set_name: string; emoji: string; format: string; mime_type: string; width: number; height: number; size: number }
export interface Media { type: string; photo?: Photo | null; document?: Document | null; voice?: Voice | null; video?: Video | null; sticker?: Sticker | null }
export interface LinkPreview { url: string; site_name?: string | null; title?: string | null; description?: string | null; photo?: Photo | null }
export type MediaMessage = Message & { media?: Media | null; grouped_id?: number | null; link_preview?: LinkPreview | null };

export interface SetSticker { sticker: Sticker; emoji: string[] }
export interface StickerSetInfo { id: number; short_name: string; title: string; version: number; count: number; install_count: number; installed: boolean; is_creator: boolean; cover: Sticker | null }
export interface StickerSet { id: number; short_name: string; title: string; version: number; install_count: number; installed: boolean; is_creator: boolean; stickers: SetSticker[] }

export function mediaOf(m: Message): Media | null {
  return ((m as MediaMessage).media as Media | null | undefined) ?? null;
}
