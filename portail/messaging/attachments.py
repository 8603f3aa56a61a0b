"""The attachment check: what a member (or an agent) may join to a message.

One optional file per message: a PDF, a JPEG or a PNG of at most 5 MB. Its type is found from its
content (the first bytes), never from its name nor from the browser's Content-Type; a name whose
extension says another type is refused with a message saying so (a "lying" extension), and the file
is parsed (pypdf, Pillow) so that a truncated or fake file is refused too.
"""

import io
import re
import unicodedata
import warnings
from math import ceil

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from PIL import Image
from pypdf import PdfReader

from portail.messaging.enums import AttachmentType
from portail.messaging.models import ATTACHMENT_MAX_BYTES, ATTACHMENT_NAME_MAX_LENGTH

# An image is decoded to be checked: more pixels than this is refused before decoding (a photo from a
# recent phone is 12 to 50 million pixels).
ATTACHMENT_MAX_PIXELS = 60_000_000

# Content signatures (magic numbers) of the accepted types.
SIGNATURES = [
    (b"%PDF-", AttachmentType.PDF),
    (b"\x89PNG\r\n\x1a\n", AttachmentType.PNG),
    (b"\xff\xd8\xff", AttachmentType.JPEG),
]
EXTENSIONS = {
    AttachmentType.PDF: (".pdf",),
    AttachmentType.JPEG: (".jpg", ".jpeg", ".jpe", ".jfif"),
    AttachmentType.PNG: (".png",),
}
PILLOW_FORMATS = {AttachmentType.JPEG: "JPEG", AttachmentType.PNG: "PNG"}
# What counts as an extension: a dot and 1 to 5 letters or digits, starting with a letter ("scan.2026"
# has none, and gets the right one added).
EXTENSION = re.compile(r"^(?P<stem>.*?)(?P<extension>\.[A-Za-z][A-Za-z0-9]{0,4})$", re.DOTALL)
NAME_UNSAFE = re.compile(r"[^\w \-().,'’]+")
DEFAULT_STEM = "piece-jointe"


def _what_it_is(content_type: AttachmentType) -> str:
    return {
        AttachmentType.PDF: _("un document PDF"),
        AttachmentType.JPEG: _("une image JPEG"),
        AttachmentType.PNG: _("une image PNG"),
    }[content_type]


def _megabytes(size: int) -> str:
    """The size in Mo, rounded up to one decimal (5 Mo and 1 byte reads 5,1 Mo, never 5,0)."""
    return number_format(ceil(size * 10 / (1024 * 1024)) / 10, decimal_pos=1)


def split_extension(name: str) -> tuple[str, str]:
    """("Relevé mars", ".pdf") from "Relevé mars.pdf"; ("scan.2026", "") when there is no extension."""
    match = EXTENSION.match(name)
    if match is None:
        return name, ""
    return match["stem"], match["extension"]


def _base_name(name: str) -> str:
    """The last part of a path as some browsers send it (C:\\Users\\...\\scan.pdf), NFC-normalised."""
    return re.split(r"[\\/]", unicodedata.normalize("NFC", str(name or "")))[-1]


def attachment_clean_name(*, name: str, content_type: AttachmentType) -> str:
    """A name safe to show and to put in a Content-Disposition header: no path, no control or special
    character, at most 120 characters, ending with the extension of the type found in the content."""
    stem, extension = split_extension(_base_name(name))
    stem = "".join(character for character in stem if unicodedata.category(character)[0] != "C")
    stem = NAME_UNSAFE.sub(" ", stem)
    stem = " ".join(stem.split()).strip(" .-_,'’")
    if extension.lower() not in EXTENSIONS[content_type]:
        extension = EXTENSIONS[content_type][0]
    stem = stem[: ATTACHMENT_NAME_MAX_LENGTH - len(extension)].rstrip(" .-_,'’") or DEFAULT_STEM
    return f"{stem}{extension.lower()}"


def _content_type_of(head: bytes) -> AttachmentType | None:
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def _check_pdf(data: bytes) -> None:
    damaged = ValidationError(
        _("Ce PDF est abîmé ou incomplet : il ne s'ouvre pas. Enregistrez-le à nouveau, puis joignez-le."),
        code="damaged",
    )
    # A complete PDF ends with %%EOF (a few bytes of padding may follow): a cut-off download does not.
    if b"%%EOF" not in data[-2048:]:
        raise damaged
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            encrypted = reader.is_encrypted
            if not encrypted:
                pages = [page.mediabox for page in reader.pages]
    except Exception as error:  # any failure of the parser on outside input means a damaged file
        raise damaged from error
    if encrypted:
        raise ValidationError(
            _(
                "Ce PDF est protégé par un mot de passe : la caisse ne pourrait pas le lire. "
                "Joignez une version sans mot de passe."
            ),
            code="encrypted",
        )
    if not pages:
        raise damaged


def _check_image(data: bytes, content_type: AttachmentType) -> None:
    damaged = ValidationError(
        _("Cette image est abîmée ou incomplète : elle ne s'ouvre pas. Enregistrez-la à nouveau, puis joignez-la."),
        code="damaged",
    )
    fmt = PILLOW_FORMATS[content_type]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as image:
                width, height = image.size
                if width * height > ATTACHMENT_MAX_PIXELS:
                    raise ValidationError(
                        _(
                            "Cette image est trop grande (%(width)s × %(height)s pixels) : %(max)s millions "
                            "de pixels au plus. Réduisez-la avant de la joindre."
                        )
                        % {"width": width, "height": height, "max": ATTACHMENT_MAX_PIXELS // 1_000_000},
                        code="too_many_pixels",
                    )
                # verify() checks the structure (for a PNG, every chunk's checksum up to the end).
                image.verify()
            if content_type == AttachmentType.JPEG:
                # verify() reads little of a JPEG: decode it (at 1/8 scale, cheap) to find a cut-off file.
                with Image.open(io.BytesIO(data), formats=[fmt]) as image:
                    image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
                    image.load()
    except ValidationError:
        raise
    except Exception as error:  # any failure of the decoder on outside input means a damaged file
        raise damaged from error


def attachment_check(uploaded_file) -> tuple[str, str]:
    """(content_type, clean_name) of an acceptable attachment; raises ValidationError (in French,
    with a code: empty, too_big, type, extension, damaged, encrypted, too_many_pixels) otherwise.

    Leaves the file positioned at its start, ready to be saved.
    """
    name = _base_name(getattr(uploaded_file, "name", "") or "")
    size = uploaded_file.size
    if not size:
        raise ValidationError(
            _("Le fichier « %(name)s » est vide : choisissez un autre fichier.") % {"name": name}, code="empty"
        )
    if size > ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            _(
                "Le fichier fait %(size)s Mo : %(max)s Mo au plus. "
                "Réduisez sa taille ou envoyez seulement les pages utiles."
            )
            % {"size": _megabytes(size), "max": ATTACHMENT_MAX_BYTES // (1024 * 1024)},
            code="too_big",
        )
    uploaded_file.seek(0)
    data = uploaded_file.read(ATTACHMENT_MAX_BYTES + 1)
    uploaded_file.seek(0)
    if len(data) > ATTACHMENT_MAX_BYTES or not data:  # the announced size was wrong
        raise ValidationError(_("Ce fichier n'a pas pu être lu : choisissez-le à nouveau."), code="unreadable")

    content_type = _content_type_of(data[:16])
    if content_type is None:
        raise ValidationError(
            _(
                "Ce fichier n'est ni un PDF, ni une image JPEG ou PNG : la caisse ne peut recevoir que ces "
                "formats. Enregistrez votre document en PDF, ou prenez-le en photo, puis joignez ce fichier."
            ),
            code="type",
        )
    _stem, extension = split_extension(name)
    if extension and extension.lower() not in EXTENSIONS[content_type]:
        raise ValidationError(
            _(
                "Le nom de ce fichier se termine par « %(extension)s », mais c'est en réalité %(what)s : "
                "son nom ne correspond pas à son contenu. Renommez-le en « %(expected)s », ou choisissez "
                "un autre fichier."
            )
            % {
                "extension": extension,
                "what": _what_it_is(content_type),
                "expected": EXTENSIONS[content_type][0],
            },
            code="extension",
        )
    if content_type == AttachmentType.PDF:
        _check_pdf(data)
    else:
        _check_image(data, content_type)
    return str(content_type), attachment_clean_name(name=name, content_type=content_type)
