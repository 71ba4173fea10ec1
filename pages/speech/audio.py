import streamlit as st
from ui import t, audio_input_ui
st.title(t("chapters.audio.title"))
clip = audio_input_ui("audio")
if clip: st.write(clip.y.shape)
