"""The interactive Telegram bot: answers chat updates by calling into `paperradar`."""
