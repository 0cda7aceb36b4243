"""pyenchant (libenchant + hunspell's en_US dictionary): check and suggest spellings."""
import enchant

print("has en_US", enchant.dict_exists("en_US"))
d = enchant.Dict("en_US")
print("provider", d.provider.name)
for word in ["sandbox", "interpreter", "recieve", "seperate", "Wednesday", "wasmffi"]:
    print(word, d.check(word), d.suggest(word)[:3] if not d.check(word) else "")
from enchant.checker import SpellChecker
chk = SpellChecker("en_US")
chk.set_text("This sentense has two mistakes in it, definately.")
print("errors", [err.word for err in chk])
