import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { ApiError, type Chat, type ChatPreview } from '../api/types';
import { t } from '../i18n';
import * as S from '../state';
import { ChatPreviewCard } from './chat/ChatPreviewCard';
import { errText } from './errors';
import { navigate } from './nav';

/** /join/<code>: what an invite link leads to, and joining it. */
export function JoinPage({ code }: { code: string }) {
  const prev = useSignal<ChatPreview | null>(null);
  const error = useSignal('');
  useEffect(() => {
    S.call<ChatPreview>('previewInvite', { code })
      .then((p) => (prev.value = p))
      .catch((e) => (error.value = errText(e)));
  }, [code]);
  const go = async (chatId: number) => {
    navigate('/');
    S.connect();
    await S.refreshChat(chatId);
    await S.openChat(chatId);
  };
  const join = async () => {
    try {
      const chat = await S.call<Chat>('joinChat', { invite_code: code });
      S.putChat(chat);
      await go(chat.id);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'USER_ALREADY_PARTICIPANT' && prev.value) await go(prev.value.chat_id);
      else error.value = errText(e);
    }
  };
  return (
    <main class="auth">
      <div class="card">
        <ChatPreviewCard p={prev.value} error={error.value} onJoin={() => void join()} onOpen={() => void go(prev.value!.chat_id)} />
        <button class="link" onClick={() => navigate('/')}>
          {t('back')}
        </button>
      </div>
    </main>
  );
}
