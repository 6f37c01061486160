"""A Telegram-compatible Bot API over Heliograph's services."""
