//! The one template environment every renderer uses.

use minijinja::syntax::SyntaxConfig;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};

use crate::error::RenderError;

/// Every template, by name. Each is parsed when the environment is built.
const TEMPLATES: &[(&str, &str)] = &[
    ("capacity.txt.j2", include_str!("templates/capacity.txt.j2")),
    (
        "debootstrap-install.sh.j2",
        include_str!("templates/debootstrap-install.sh.j2"),
    ),
    ("kickstart.ks.j2", include_str!("templates/kickstart.ks.j2")),
    ("menu.lst.j2", include_str!("templates/menu.lst.j2")),
    ("default-grub.j2", include_str!("templates/default-grub.j2")),
    ("grub.cfg.j2", include_str!("templates/grub.cfg.j2")),
    ("xl.conf.j2", include_str!("templates/xl.conf.j2")),
    (
        "debian-grub.cfg.j2",
        include_str!("templates/debian-grub.cfg.j2"),
    ),
    (
        "debian-xen.cfg.j2",
        include_str!("templates/debian-xen.cfg.j2"),
    ),
    (
        "debian-kernel-img.conf.j2",
        include_str!("templates/debian-kernel-img.conf.j2"),
    ),
    (
        "debian-interfaces.j2",
        include_str!("templates/debian-interfaces.j2"),
    ),
    (
        "debian-xendomains.j2",
        include_str!("templates/debian-xendomains.j2"),
    ),
    (
        "pxelinux-install.cfg.j2",
        include_str!("templates/pxelinux-install.cfg.j2"),
    ),
    (
        "pxelinux-localboot.cfg.j2",
        include_str!("templates/pxelinux-localboot.cfg.j2"),
    ),
    (
        "pxelinux-netinstall.cfg.j2",
        include_str!("templates/pxelinux-netinstall.cfg.j2"),
    ),
    (
        "grub2-install.cfg.j2",
        include_str!("templates/grub2-install.cfg.j2"),
    ),
    (
        "grub2-localboot.cfg.j2",
        include_str!("templates/grub2-localboot.cfg.j2"),
    ),
    (
        "grub-efi-prefix.cfg.j2",
        include_str!("templates/grub-efi-prefix.cfg.j2"),
    ),
    (
        "ipxe-install.ipxe.j2",
        include_str!("templates/ipxe-install.ipxe.j2"),
    ),
    (
        "ipxe-localboot.ipxe.j2",
        include_str!("templates/ipxe-localboot.ipxe.j2"),
    ),
    (
        "ipxe-boot.ipxe.j2",
        include_str!("templates/ipxe-boot.ipxe.j2"),
    ),
    ("dhcpd.conf.j2", include_str!("templates/dhcpd.conf.j2")),
    ("dnsmasq.conf.j2", include_str!("templates/dnsmasq.conf.j2")),
    ("dns-zone.j2", include_str!("templates/dns-zone.j2")),
    (
        "named.conf.xenfab.j2",
        include_str!("templates/named.conf.xenfab.j2"),
    ),
    ("nsupdate.txt.j2", include_str!("templates/nsupdate.txt.j2")),
    ("guest.xm.j2", include_str!("templates/guest.xm.j2")),
    ("guest.xl.cfg.j2", include_str!("templates/guest.xl.cfg.j2")),
    ("provision.sh.j2", include_str!("templates/provision.sh.j2")),
    ("preseed.cfg.j2", include_str!("templates/preseed.cfg.j2")),
    ("report.html.j2", include_str!("templates/report.html.j2")),
];

/// The environment: strict about undefined values, blocks trimmed, trailing newline kept,
/// no auto-escaping (each renderer validates and escapes for its own syntax) but for HTML
/// templates (`*.html.j2`), where every value is HTML-escaped.
///
/// Built once by each thread that renders, and kept for the thread's life: a build parses
/// every template (a render of 1,000 dom0s that built one per rayon job spent 1 % of its
/// time on that), and threads that shared one would share the reference counts of its
/// constants.
pub(crate) fn with_environment<R>(f: impl FnOnce(&Environment<'static>) -> R) -> R {
    thread_local! {
        static ENVIRONMENT: Environment<'static> = build();
    }
    ENVIRONMENT.with(f)
}

fn build() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(auto_escape);
    match SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
    {
        Ok(syntax) => env.set_syntax(syntax),
        Err(e) => unreachable!("the template syntax is fixed: {e}"),
    }
    for (name, source) in TEMPLATES {
        if let Err(e) = env.add_template(name, source) {
            unreachable!("template {name} does not parse (a bug, caught by the tests): {e}");
        }
    }
    env
}

/// How a template's values are escaped: HTML for `*.html.j2`, none for the rest.
fn auto_escape(name: &str) -> AutoEscape {
    if name.ends_with(".html.j2") {
        AutoEscape::Html
    } else {
        AutoEscape::None
    }
}

/// Renders template `name` with `view`.
pub(crate) fn render<S: serde::Serialize>(
    env: &Environment<'_>,
    name: &str,
    view: S,
) -> Result<String, RenderError> {
    env.get_template(name)
        .and_then(|t| t.render(minijinja::value::Serde(view)))
        .map_err(|source| RenderError::Template {
            name: name.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_html_templates_are_escaped() {
        use minijinja::AutoEscape;
        assert_eq!(super::auto_escape("report.html.j2"), AutoEscape::Html);
        for (name, _) in super::TEMPLATES {
            if !name.ends_with(".html.j2") {
                assert_eq!(super::auto_escape(name), AutoEscape::None, "{name}");
            }
        }
    }

    #[test]
    fn every_template_parses() {
        let env = super::build();
        for (name, _) in super::TEMPLATES {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
    }
}
