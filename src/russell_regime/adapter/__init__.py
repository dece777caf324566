"""The freqtrade adapter: the provider a strategy holds, the live refresh shell and the offline
runner of freqtrade commands."""
